"""A term of the course: gradeable assignments made from the lessons, and grading them safely.

* ``assignments``  each lesson with exercises -> an nbgrader source assignment (and the student's copy)
* ``otter``        the same assignments in Otter-Grader's format, for courses whose grades go to an LMS
* ``sandbox``      runs a lesson once in a locked-down child process, each student's answer in a fork
* ``replay``       probe and judge: the answer's process sends back only data; the grader decides
* ``grading``      collects submissions, grades them in the sandbox, writes the gradebook and feedback
"""
