"""SQLAlchemy models. Import them from here so that Alembic sees every table."""

from models.accounts import Account, AuditEntry
from models.base import db
from models.checkins import Answer, Checkin, Session, UssdEvent
from models.directory import Facility, Worker
from models.flows import Flow, FlowVersion
from models.messages import InboundMessage, OutboundMessage
from models.schedule import ScheduleRun

__all__ = [
    "Account",
    "Answer",
    "AuditEntry",
    "Checkin",
    "Facility",
    "Flow",
    "FlowVersion",
    "InboundMessage",
    "OutboundMessage",
    "ScheduleRun",
    "Session",
    "UssdEvent",
    "Worker",
    "db",
]
