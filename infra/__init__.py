"""CDK constructs, one per unit, and the stack that composes them."""
