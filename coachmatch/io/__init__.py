"""Reading and writing programs: the program folder, DataFrames and JSON."""

from coachmatch.io.folder import load_program, write_program
from coachmatch.io.frames import from_frames, to_frames

__all__ = ["from_frames", "load_program", "to_frames", "write_program"]
