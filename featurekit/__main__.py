"""``python -m featurekit`` is the ``featurekit`` command."""

from featurekit.cli import main

raise SystemExit(main())
