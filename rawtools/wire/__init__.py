"""Bytes in, bytes out: building probes and parsing replies, no I/O at all."""
