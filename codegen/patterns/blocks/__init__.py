"""Block patterns: the dataflow of a generated class, recognised from its members' names and widths."""
