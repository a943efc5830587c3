"""`make bench` (`python -m bench`): the relay measured against a conventional Powertools handler
and a plain curl copy pipeline, all on the local stack (moto server + the Wix emulator).

Not part of `make test`. Prints one table and writes the same figures to bench/results.json.
"""
