"""featurekit's version: the one place it is written (read by the build, ``featurekit
--version``, saved feature files and ``featurekit.__version__``). Imports nothing, so asking
for the version stays instant."""

__version__ = "0.1.0"
