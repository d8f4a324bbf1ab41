"""Reading and writing programs: the program folder, DataFrames and JSON."""

from coachmatch.io.folder import load_program, write_program
from coachmatch.io.frames import program_from_frames, program_to_frames

__all__ = ["load_program", "program_from_frames", "program_to_frames", "write_program"]
