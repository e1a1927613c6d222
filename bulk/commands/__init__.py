"""The commands that do not run the pipeline on a sheet, and what every command shares."""
