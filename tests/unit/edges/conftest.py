"""Edge-technique tests build small estates in Python (estate_builder) and assert on build_graph."""
