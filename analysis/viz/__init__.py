"""The browser app (``negsim viz``): a Mesa SolaraViz page over the negotiation model.

* :mod:`analysis.viz.model`: :class:`VizModel`, the model the page drives; its keyword levers
  (scenario file, seed, phases, safe passage, border openings, bombardment capacity) build the
  scenario, and a bad scenario file becomes an on-page error instead of a traceback;
* :mod:`analysis.viz.components`: the map, charts and negotiation panel (figures built by pure
  functions, wrapped as solara components);
* :mod:`analysis.viz.app`: the page ``solara run`` serves;
* :mod:`analysis.viz.cli`: the ``negsim viz`` command.
"""
