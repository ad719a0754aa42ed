"""oximon: watches pulse oximeters at overdose prevention sites."""

__version__ = "0.1.0"
