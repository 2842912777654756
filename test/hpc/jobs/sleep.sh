#!/bin/bash
#SBATCH --job-name=ibo-test-sleep
#SBATCH --time=10
# Occupies one CPU slot and does nothing: the concurrency test counts how many of these run at once.
exec sleep 600
