"""Demo data: ``flask --app wsgi demo seed``. The only place demo accounts are created.

``accounts`` draws the people, ``loans`` their loans and what they did with them, ``history``
replays those days through the real services, ``build`` puts it together, ``cli`` is the command.
"""

from portal.demo.accounts import DEMO_PASSWORD
from portal.demo.build import SeedResult, seed
from portal.demo.cli import demo_cli

__all__ = ["DEMO_PASSWORD", "SeedResult", "demo_cli", "seed"]
