"""What rawtools' own tests use and a user's tests can use too.

`rawtools.testing.lab` builds namespace topologies on the running kernel;
`rawtools.testing.plugin` is the pytest plugin (registered through the
`pytest11` entry point) whose `make_lab` fixture builds them for a test and
tears them down after it, also when it fails.
"""
