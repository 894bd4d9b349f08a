"""Printers for what the transports carry, one protocol per module, in tcpdump's words.

Each printer takes the payload as captured (`p`, possibly cut short by the
snapshot length) and its length on the wire by the header before it
(`length`), and returns `(text, ok)`: the text tcpdump prints for it without
-v, and False when the bytes ran out or lied (tcpdump's `[|proto]` and
`(invalid)`), which the decoder counts as malformed. They read only `p`,
never raise, and keep no state, so the fast batch loop and the per-packet
walk can both call them.

`ports` holds the dispatch tables that choose a printer by UDP or TCP port,
in tcpdump's order of precedence.
"""
