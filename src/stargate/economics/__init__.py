"""Economics: capital cost, operating cost and total cost of ownership."""
