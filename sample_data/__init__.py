"""The fictional demo council (Borough of Aldermoor): reference data and quarterly returns.

`python -m sample_data.generate` rewrites every data file here from a fixed seed.
"""
