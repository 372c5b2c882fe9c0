"""The console's composition root, named as every service's: `Settings` and `build(settings) -> (None, app)`
(the console has no runtime of its own: no broker, no database)."""

from console.app import build
from console.settings import ConsoleSettings as Settings

__all__ = ["Settings", "build"]
