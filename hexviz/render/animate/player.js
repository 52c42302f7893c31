(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("hexviz-data").textContent);
  var n = D.durations.length, frame = 0, playing = true, timer = null;
  document.getElementById("question").textContent = D.question;
  var scrub = document.getElementById("scrub"), play = document.getElementById("play");
  scrub.max = n - 1;
  if (!D.vote) document.getElementById("vote").style.display = "none";
  var root = document.getElementById("panels"), views = [];
  D.panels.forEach(function (p) {
    var box = document.createElement("div"); box.className = "panel";
    var head = document.createElement("div"); head.className = "head";
    var name = document.createElement("span"); name.className = "name"; name.textContent = p.title;
    var status = document.createElement("span"); status.className = "status";
    head.appendChild(name); head.appendChild(status); box.appendChild(head);
    var cv = document.createElement("div"); cv.className = "canvas"; box.appendChild(cv);
    var byPos = {};  // position -> [[frame, text, state], ...]
    p.changes.forEach(function (c) { (byPos[c[1]] = byPos[c[1]] || []).push([c[0], c[2], c[3]]); });
    var cells = [], wraps = [], breaks = {}, starts = {}, group = null;
    p.group.forEach(function (q) { starts[q] = true; });
    for (var q = 0; q < p.appear.length; q++) {
      if (starts[q] || !group) {  // a word and its punctuation never split across lines
        group = document.createElement("span"); group.className = "g"; cv.appendChild(group);
      }
      var w = document.createElement("span"); w.className = "w" + (p.space[q] ? " sp" : "");
      var s = document.createElement("span"); s.className = "c";
      // the widest text this position ever shows, so words never move
      var longest = (byPos[q] || []).reduce(function (a, c) { return c[1].length > a.length ? c[1] : a; }, "");
      s.textContent = longest || " ";
      w.appendChild(s); group.appendChild(w); cells.push(s); wraps.push(w);
      if (p.newline[q]) {
        var br = document.createElement("span"); br.className = "br"; cv.appendChild(br); group = null;
        breaks[q] = br;
      }
    }
    var flash = {}, cut = {};
    p.flash.forEach(function (f) { (flash[f[0]] = flash[f[0]] || {})[f[1]] = true; });
    // a growing canvas: its slots come and go (p.shows), and are drawn struck once cut
    (p.cut || []).forEach(function (f) { (cut[f[0]] = cut[f[0]] || {})[f[1]] = true; });
    // a dVoting round: position -> the frame from which it is drawn re-masked (until it shows)
    var remask = {};
    (p.remask || []).forEach(function (r) { remask[r[0]] = r[1]; });
    views.push({p: p, cells: cells, wraps: wraps, breaks: breaks, status: status, byPos: byPos,
                flash: flash, cut: cut, remask: remask});
    root.appendChild(box);
  });
  if (D.panels.some(function (p) { return p.cut && p.cut.length; })) {
    var key = document.createElement("span"), mark = document.createElement("i");
    mark.className = "cutkey"; key.appendChild(mark); key.appendChild(document.createTextNode("cut"));
    document.getElementById("legend").appendChild(key);
  }
  if (D.panels.some(function (p) { return p.remask && p.remask.length; })) {
    var rkey = document.createElement("span"), ring = document.createElement("i");
    ring.className = "rmkey"; rkey.appendChild(ring);
    rkey.appendChild(document.createTextNode("re-masked"));
    document.getElementById("legend").appendChild(rkey);
  }
  function measure() {  // fix each cell's width at its widest text (again when fonts change)
    views.forEach(function (v) {
      v.wraps.forEach(function (w) { w.style.display = ""; });  // hidden slots measure too
      v.cells.forEach(function (s) { s.style.minWidth = ""; });
      var saved = v.cells.map(function (s) { return [s.className, s.textContent]; });
      v.cells.forEach(function (s, q) {
        var list = v.byPos[q] || [], best = "";
        list.forEach(function (c) { if (c[2] === 1 && c[1].length > best.length) best = c[1]; });
        s.className = "c"; s.textContent = best || " ";
      });
      var widths = v.cells.map(function (s) { return s.getBoundingClientRect().width; });
      v.cells.forEach(function (s, q) {
        s.style.minWidth = widths[q] + "px"; s.className = saved[q][0]; s.textContent = saved[q][1];
      });
    });
  }
  function version(v, q, f) {
    var list = v.byPos[q] || [], found = null;
    for (var i = 0; i < list.length && list[i][0] <= f; i++) found = list[i];
    return found;
  }
  function edited(v, q, f) {
    var list = v.byPos[q] || [], k = 0;
    for (var i = 0; i < list.length && list[i][0] <= f; i++) k++;
    return k > 1;
  }
  function show(f) {
    frame = f; scrub.value = f;
    document.getElementById("caption").textContent = D.captions[f];
    views.forEach(function (v) {
      var p = v.p, blk = p.block[f];
      for (var q = 0; q < v.cells.length; q++) {
        var s = v.cells[q], cls = "c", text = " ";
        if (f < p.appear[q]) cls += " m" + (f >= (v.remask[q] === undefined ? n : v.remask[q]) ? " rm" : "");
        else {
          var ver = version(v, q, f);
          if (ver[2] === 2) cls += " eot"; else if (ver[2] === 3) cls += " eos";
          else { text = ver[1] || " "; if (p.appear[q] === f) cls += " fresh"; }
          if (v.flash[f] && v.flash[f][q]) cls += " flash";
          else if (edited(v, q, f)) cls += " edited";
        }
        if (v.cut[f] && v.cut[f][q]) cls += " cut";
        if (p.shows) {
          var on = f >= p.shows[q][0] && f < p.shows[q][1] ? "" : "none";
          v.wraps[q].style.display = on;
          if (v.breaks[q]) v.breaks[q].style.display = on;
        }
        s.className = cls; s.textContent = text;
        s.dataset.state = f < p.appear[q] ? "mask" : "shown";
        var inBlock = blk && q >= blk[0] && q < blk[1];
        v.wraps[q].className = "w" + (p.space[q] ? " sp" : "") + (inBlock ? " blk" : "") +
          (inBlock && q === blk[0] ? " first" : "") + (inBlock && q === blk[1] - 1 ? " last" : "");
      }
      var done = p.done[f];
      v.status.className = "status" + (done ? " answer" : "");
      v.status.textContent = done ? ((p.collapsed ? "collapsed · " : "") +
        (p.answer !== null ? "answer " + p.answer : "no answer")) : "step " + p.step[f] + "/" + p.steps +
        (p.length ? " · length " + p.length[f] : "");
    });
    if (D.vote) {
      var line = D.vote[f], el = document.getElementById("vote");
      el.innerHTML = "";
      var a = document.createElement("div");
      a.textContent = "Vote: " + (line[0] || "waiting for the experts to finish");
      var b = document.createElement("div"); b.className = "result"; b.textContent = line[1] || " ";
      el.appendChild(a); el.appendChild(b);
    }
  }
  function tick() {
    timer = null;
    if (!playing) return;
    show(frame + 1 < n ? frame + 1 : 0);
    timer = setTimeout(tick, D.durations[frame]);
  }
  function setPlaying(on) {
    playing = on; play.textContent = on ? "Pause" : "Play";
    if (timer) { clearTimeout(timer); timer = null; }
    if (on) timer = setTimeout(tick, D.durations[frame]);
  }
  play.addEventListener("click", function () { setPlaying(!playing); });
  scrub.addEventListener("input", function () { setPlaying(false); show(+scrub.value); });
  document.addEventListener("keydown", function (e) {
    if (e.target === scrub) return;
    if (e.key === " ") { e.preventDefault(); setPlaying(!playing); }
    else if (e.key === "ArrowRight") { setPlaying(false); show(Math.min(n - 1, frame + 1)); }
    else if (e.key === "ArrowLeft") { setPlaying(false); show(Math.max(0, frame - 1)); }
  });
  window.hexviz = {show: show, setPlaying: setPlaying, frames: n,
                   frame: function () { return frame; }, playing: function () { return playing; }};
  measure(); show(0); setPlaying(!/[?#&]paused/.test(location.href));
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(function () { measure(); show(frame); });
})();
