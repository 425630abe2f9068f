"""Payment issues: what about money a person must look at, and its resolution."""
