"""Registry entries, one module per family of functions (imported by ``cvp_xl.registry``)."""
