"""What a person may see: the one scoping function for SMS, USSD and the admin pages.

A supervisor sees the CSComs of their CSRef's district; a regional viewer, the CSComs of every
district of their region; an admin, every CSCom. Everything a supervisor can ask about (missing
CSComs, a CSCom's answers, coaching) is filtered through `cscoms_in_scope`, so an unknown code
and a CSCom outside the district look the same: nothing reveals that it exists elsewhere.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from models import Facility

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
