"""propfee — 物业费收缴与催收系统."""

__version__ = "0.1.0"
