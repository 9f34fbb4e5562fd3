"""Analysis: calibration, sensitivity, plots, reports, the browser app."""
