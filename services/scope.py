"""What a person may see: the one scoping function for SMS, USSD and the admin pages.

A supervisor sees the CSComs of their CSRef's district; a regional viewer, the CSComs of every
district of their region; an admin, every CSCom. The console's directory pages also show the
levels above (`facilities_in_scope`): the viewer's own CSRef or region and what lies between. Everything a supervisor can ask about (missing
CSComs, a CSCom's answers, coaching) is filtered through `cscoms_in_scope`, so an unknown code
and a CSCom outside the district look the same: nothing reveals that it exists elsewhere.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from models import Facility
from models.directory import VIEWER_ROLES

_district = aliased(Facility)


def cscoms_in_scope(role: str, facility_id: int | None) -> sa.Select:
    """SELECT of the ids of the CSComs a person of `role` at `facility_id` may see.

    A role that oversees nothing (a health worker, or a viewer without a facility) sees none.
    """
    cscoms = sa.select(Facility.id).where(Facility.kind == "cscom")
    if role == "admin":
        return cscoms
    if role == "supervisor" and facility_id is not None:
        return cscoms.where(Facility.parent_id == facility_id)
    if role == "regional" and facility_id is not None:
        return cscoms.join(_district, _district.id == Facility.parent_id).where(
            _district.kind == "csref", _district.parent_id == facility_id
        )
    return cscoms.where(sa.false())


def facilities_in_scope(role: str, facility_id: int | None) -> sa.Select:
    """SELECT of the ids of the facilities a console user of `role` at `facility_id` may see.

    An admin sees them all; a supervisor, their CSRef and its CSComs; a regional viewer, their
    region, its CSRefs and their CSComs: the viewer's facility and the two levels below it,
    which holds every CSCom of services.scope.cscoms_in_scope. Anyone else sees none.
    """
    if role == "admin":
        return sa.select(Facility.id)
    if role not in VIEWER_ROLES or facility_id is None:
        return sa.select(Facility.id).where(sa.false())
    parent = aliased(Facility)
    return (
        sa.select(Facility.id)
        .outerjoin(parent, parent.id == Facility.parent_id)
        .where(
            sa.or_(
                Facility.id == facility_id,
                Facility.parent_id == facility_id,
                parent.parent_id == facility_id,
            )
        )
    )
