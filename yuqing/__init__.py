"""yuqing: public-opinion monitoring for telecom operators."""

__version__ = "0.1.0"
