// The drawing pad: a canvas you draw a digit on with the mouse, a pen or a finger.
// Drawing happens entirely in the browser; after each stroke the canvas is sent to Python once,
// as a PNG (the `png` trait), so it goes through the same pipeline as an uploaded photo.
// Python may set `png` too (a test, or `DrawingPad.draw(...)`): the canvas then shows it.

function render({ model, el }) {
  const size = model.get("size");
  const root = document.createElement("div");
  root.className = "lenet-pad";
  // One size in every state: the canvas and the bar under it are as wide as the pad, whatever the
  // hint says ("Draw one big digit" is wider than "1 stroke": a pad sized by it shrank after a stroke).
  root.style.width = `${size + 2}px`;       // the canvas and its 1 px border

  const canvas = document.createElement("canvas");
  canvas.width = size;                      // 1 canvas pixel per CSS pixel: the PNG is size x size
  canvas.height = size;
  canvas.style.width = `${size}px`;
  canvas.style.height = `${size}px`;
  canvas.className = "lenet-pad-canvas";
  canvas.setAttribute("aria-label", "drawing pad: draw one digit");
  const ctx = canvas.getContext("2d");

  const bar = document.createElement("div");
  bar.className = "lenet-pad-bar";
  const hint = document.createElement("span");
  hint.className = "lenet-pad-hint";
  const clearButton = document.createElement("button");
  clearButton.className = "lenet-pad-clear jupyter-button";
  clearButton.textContent = "Clear";
  bar.append(hint, clearButton);
  root.append(canvas, bar);
  el.append(root);

  let sent = null;                          // the DataView this view sent last (to ignore its echo)

  function paper() {
    ctx.fillStyle = "#ffffff";              // opaque white paper, dark ink: like a scan
    ctx.fillRect(0, 0, size, size);
  }
  function pen() {
    ctx.strokeStyle = "#111111";
    ctx.fillStyle = "#111111";
    ctx.lineWidth = model.get("stroke_width");
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  }
  function showHint() {
    const n = model.get("strokes");
    hint.textContent = n === 0 ? "Draw one big digit" : `${n} stroke${n === 1 ? "" : "s"}`;
  }
  paper();
  showHint();

  function point(e) {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * size / r.width, (e.clientY - r.top) * size / r.height];
  }

  let drawing = false;
  let last = null;
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    drawing = true;
    canvas.setPointerCapture(e.pointerId);
    last = point(e);
    pen();
    ctx.beginPath();
    ctx.arc(last[0], last[1], ctx.lineWidth / 2, 0, 2 * Math.PI);   // a tap makes a dot
    ctx.fill();
    e.preventDefault();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const p = point(e);
    pen();
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    last = p;
  });
  function finish() {
    if (!drawing) return;
    drawing = false;
    canvas.toBlob(async (blob) => {
      const view = new DataView(await blob.arrayBuffer());
      sent = view;
      model.set("png", view);
      model.set("strokes", model.get("strokes") + 1);
      model.save_changes();
    }, "image/png");
  }
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  canvas.addEventListener("lostpointercapture", finish);

  clearButton.addEventListener("click", () => {
    paper();
    sent = new DataView(new ArrayBuffer(0));
    model.set("png", sent);
    model.set("strokes", 0);
    model.save_changes();
  });

  async function showFromPython() {
    const value = model.get("png");
    if (value === sent) return;             // our own stroke, already on the canvas
    paper();
    if (!value || value.byteLength === 0) return;
    try {
      const bitmap = await createImageBitmap(new Blob([value], { type: "image/png" }));
      ctx.drawImage(bitmap, 0, 0, size, size);
    } catch (err) {
      console.warn("drawing pad: could not show the image set from Python", err);
    }
  }
  model.on("change:png", showFromPython);
  model.on("change:strokes", showHint);
  if (model.get("png") && model.get("png").byteLength > 0) showFromPython();

  return () => {
    model.off("change:png", showFromPython);
    model.off("change:strokes", showHint);
  };
}

export default { render };
