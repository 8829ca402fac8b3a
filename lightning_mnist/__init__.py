"""Classic MNIST study notebook as PyTorch Lightning modules."""
