# nbgrader settings for the course's assignments (lenet assignments build writes source/lessonNN/).
# A solution becomes a comment, not `raise NotImplementedError()`: the exercise's self-check after it
# must still run and give its hint (lenet_utils.term.assignments.CODE_STUB).
c = get_config()  # noqa: F821
c.CourseDirectory.root = "."
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}
