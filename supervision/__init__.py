"""Supervision, the pure part: indicator points, run-chart signals and the supervisors' SMS texts.

No Flask, no SQL, no Redis, no I/O: the tick reads the database and hands these functions plain
values, so every rule here is tested on hand-worked series and texts without any fixture.
"""
