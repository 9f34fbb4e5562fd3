"""negsim: agent-based model of negotiated surrender under bombardment."""
__version__ = "0.1.0"
