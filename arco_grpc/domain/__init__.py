"""The pure domain: commands decided against state into events, with no I/O and no clock."""
