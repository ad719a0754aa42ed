"""Alarm system: turns detector conditions into alarms people can acknowledge."""

from alerts.manager import AlarmManager

__all__ = ["AlarmManager"]
