"""Reading input files with precise errors, and writing output files atomically."""
