"""Pure rules: no I/O, no clock (time arrives as a parameter), no storage types."""
