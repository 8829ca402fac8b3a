"""``python -m lightning_mnist.study reproduce|sweep|collect ...``: the study's command-line front."""

from lightning_mnist.cli import main

if __name__ == "__main__":
    main()
