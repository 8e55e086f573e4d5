"""remora's benchmark harness (bench/run.sh is the entry point)."""
