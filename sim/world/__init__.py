"""The case world: towns, sub-district areas, destination zones and derived distance tables."""

from sim.world.case import World, load_world

__all__ = ["World", "load_world"]
