#!/bin/sh
# The start command of every student's pod (hub/z2jh/config.yaml: singleuser.cmd), then the server.
#
#   sh /srv/course/hub/z2jh/start-student.sh jupyterhub-singleuser [its arguments]
#
# It prepares the student's home (their persistent volume) and then becomes the server (exec),
# so the server starts only once the home is ready:
#   1. First start only: the course's notebooks/ are copied into ~/notebooks. The copy goes to a
#      temporary folder on the same volume and is renamed into place in one step, so a pod that
#      dies mid-copy leaves no half course; the next start removes the leftover and copies again.
#      Once ~/notebooks exists it is the student's and is never touched again.
#   2. ~/lenet-data holds the student's own checkpoints; its MNIST links to the copy placed in the
#      image once at build time (never copied into each home).
#   3. The out-of-memory note (hub/kernel_note.py) goes into IPython's startup folder, rewritten on
#      every start like `make hub` does: after a kernel is killed for memory, its next cell says why.
# LENET_COURSE_DIR and HOME may be set to other folders (tests/test_z2jh_first_start.py does).
set -eu

COURSE="${LENET_COURSE_DIR:-/srv/course}"
STUDENT_HOME="${HOME:?HOME is not set: the pod must set it to the student volume (/home/jovyan)}"

if [ ! -d "$COURSE/notebooks" ]; then
    echo "start-student.sh: no course at $COURSE/notebooks: build the image with --target-repo-dir /srv/course" >&2
    exit 1
fi

# 1. the student's own copy of the course, whole or not at all
if [ ! -e "$STUDENT_HOME/notebooks" ]; then
    partial="$STUDENT_HOME/.notebooks-copying"
    rm -rf "$partial"                          # a leftover of a pod that died mid-copy, never their work
    cp -R "$COURSE/notebooks" "$partial"
    rm -rf "$partial/.ipynb_checkpoints" "$partial/__pycache__"
    mv -T "$partial" "$STUDENT_HOME/notebooks"   # rename(2) on one volume: atomic
fi

# 2. own checkpoints on the volume, MNIST from the image
mkdir -p "$STUDENT_HOME/lenet-data"
ln -sfn "$COURSE/data/MNIST" "$STUDENT_HOME/lenet-data/MNIST"

# 3. the out-of-memory note in every kernel (written whole, then renamed)
startup="$STUDENT_HOME/.ipython/profile_default/startup"
mkdir -p "$startup"
cp "$COURSE/hub/kernel_note.py" "$startup/.00-lenet-kernel-note.py.tmp"
mv -f "$startup/.00-lenet-kernel-note.py.tmp" "$startup/00-lenet-kernel-note.py"

exec "$@"
