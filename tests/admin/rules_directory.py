"""Access rules of the directory's pages (admin/directory_pages.py): everyone reads facilities
and people within their scope, admins alone add, edit, (de)activate and import.

URLs naming a facility use SCOPED (CSCom codes); a worker's page is given a worker of
Malibougou (CSCOM-MLB), within every role's scope: its outside is tested in
tests/admin/test_directory_pages.py. The import status URL names an import made for the
occasion, finished, in Redis.
"""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import current_app

from models import Worker, db
from tests.admin.rules import ADMINS, Rule
from tests.supervision.districts import FOCAL_POINT
from workers import imports

STAFF_CSV = b"name,phone,facility_code,role,language\nAwa Keita,70000099,CSCOM-SGU,nurse,fr\n"


def _worker(region: dict[str, int]) -> dict[str, object]:
    return {"worker_id": db.session.scalar(sa.select(Worker.id).where(Worker.phone == FOCAL_POINT))}


def _finished_import(region: dict[str, int]) -> dict[str, object]:
    redis = current_app.extensions["redis"]
    import_id = imports.prepare(redis, "workers", "staff.csv", STAFF_CSV.decode())
    redis.hset(f"directory:import:{import_id}", mapping={"status": "done"})
    return {"import_id": import_id}


RULES: dict[str, Rule] = {
    "admin.facilities": Rule(),
    "admin.facility": Rule(),
    "admin.facility_save": Rule(
        roles=ADMINS,
        form=lambda: {
            "code": "CSCOM-SGU",
            "name": "CSCom de Pelengana",
            "kind": "cscom",
            "parent_code": "CSREF-SGU",
        },
    ),
    "admin.facility_new": Rule(
        roles=ADMINS,
        form=lambda: {
            "code": "CSCOM-NEW",
            "name": "CSCom Neuf",
            "kind": "cscom",
            "parent_code": "CSREF-SGU",
        },
    ),
    "admin.facility_active": Rule(roles=ADMINS, form=lambda: {"active": "0"}),
    "admin.workers": Rule(),
    "admin.worker": Rule(url_values=_worker),
    "admin.worker_save": Rule(
        roles=ADMINS,
        url_values=_worker,
        form=lambda: {
            "name": "Fatoumata Diarra Traoré",
            "phone": FOCAL_POINT,
            "facility_code": "CSCOM-MLB",
            "role": "qi_focal_point",
            "language": "fr",
        },
    ),
    "admin.worker_new": Rule(
        roles=ADMINS,
        form=lambda: {
            "name": "Awa Keita",
            "phone": "70 00 00 99",
            "facility_code": "CSCOM-KTD",  # Pelengana may be deactivated by then
            "role": "nurse",
            "language": "fr",
        },
    ),
    "admin.worker_active": Rule(roles=ADMINS, url_values=_worker, form=lambda: {"active": "0"}),
    "admin.imports": Rule(
        roles=ADMINS,
        form=lambda: {"kind": "workers", "file": (io.BytesIO(STAFF_CSV), "staff.csv")},
    ),
    "admin.import_status": Rule(roles=ADMINS, url_values=_finished_import),
}
"""Every POST is the admins'; the facility's `active` POST deactivates
Pelengana (and Fanta Camara with it)."""
