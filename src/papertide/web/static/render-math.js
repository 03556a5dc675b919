// Renders the LaTeX in every element with class "math" with the vendored KaTeX, one formula at
// a time, so that hostile math can neither crash nor freeze the page (issue #10):
// - a formula longer or more deeply nested than the bounds below is left as its source text
//   (765 nested \underbrace{ crashed the tab; papertide.markup applies the same bounds to
//   comments on the server and never sends such a formula here);
// - a formula that makes KaTeX throw (4,900 nested { overflowed its stack and stopped every
//   later comment) is left as its source text, and the others still render;
// - the page gives KaTeX a fixed time budget, in short slices between which the browser
//   paints and answers input; what is left when it runs out stays as source text.
// trust: false keeps \href, \url, \includegraphics and friends from producing links or requests;
// maxExpand bounds macro expansion.
(function () {
  "use strict";
  var MAX_FORMULA_CHARS = 2000; // = papertide.markup.MAX_FORMULA_CHARS
  var MAX_FORMULA_DEPTH = 24; // = papertide.markup.MAX_FORMULA_DEPTH
  var PAGE_BUDGET_MS = 2000;
  var SLICE_MS = 40;
  var DELIMITERS = [
    { left: "$$", right: "$$", display: true },
    { left: "\\[", right: "\\]", display: true },
    { left: "\\(", right: "\\)", display: false },
    { left: "$", right: "$", display: false }
  ];
  var OPTIONS = { trust: false, throwOnError: false, maxSize: 10, maxExpand: 1000 };
  var SKIPPED = { SCRIPT: 1, NOSCRIPT: 1, STYLE: 1, TEXTAREA: 1, PRE: 1, CODE: 1, OPTION: 1 };
  var NESTING = /\\\\|\\left(?![a-zA-Z])|\\right(?![a-zA-Z])|\\[{}]|[{}]/g;

  // Whether KaTeX may be handed `formula` (the same rule as papertide.markup).
  function withinBounds(formula) {
    if (formula.length > MAX_FORMULA_CHARS) {
      return false;
    }
    var depth = 0;
    var token;
    NESTING.lastIndex = 0;
    while ((token = NESTING.exec(formula)) !== null) {
      var text = token[0];
      if (text === "{" || text === "\\left") {
        depth += 1;
        if (depth > MAX_FORMULA_DEPTH) {
          return false;
        }
      } else if (text === "}" || text === "\\right") {
        depth -= 1;
      }
    }
    return true;
  }

  // Where the formula opened at `start` ends: `right` outside braces, skipping escaped characters.
  function findEnd(text, right, start) {
    var level = 0;
    for (var i = start; i < text.length; i++) {
      var character = text[i];
      if (level <= 0 && text.slice(i, i + right.length) === right) {
        return i;
      } else if (character === "\\") {
        i += 1;
      } else if (character === "{") {
        level += 1;
      } else if (character === "}") {
        level -= 1;
      }
    }
    return -1;
  }

  function openingAt(text, i) {
    for (var d = 0; d < DELIMITERS.length; d++) {
      var left = DELIMITERS[d].left;
      if (text.slice(i, i + left.length) === left && !(left[0] === "$" && text[i - 1] === "\\")) {
        return DELIMITERS[d];
      }
    }
    return null;
  }

  // The text split into plain strings and formulas {math, source, display}.
  function split(text) {
    var pieces = [];
    var plainFrom = 0;
    for (var i = 0; i < text.length; i++) {
      var delimiter = openingAt(text, i);
      if (delimiter === null) {
        continue;
      }
      var end = findEnd(text, delimiter.right, i + delimiter.left.length);
      if (end === -1) {
        break;
      }
      if (i > plainFrom) {
        pieces.push(text.slice(plainFrom, i));
      }
      pieces.push({
        math: text.slice(i + delimiter.left.length, end),
        source: text.slice(i, end + delimiter.right.length),
        display: delimiter.display
      });
      i = end + delimiter.right.length - 1;
      plainFrom = i + 1;
    }
    if (plainFrom < text.length) {
      pieces.push(text.slice(plainFrom));
    }
    return pieces;
  }

  // Replace each text node's formulas by spans holding their source; queue them in `jobs`.
  function collect(element, jobs) {
    var children = Array.prototype.slice.call(element.childNodes);
    for (var c = 0; c < children.length; c++) {
      var node = children[c];
      if (node.nodeType === 1 && !SKIPPED[node.nodeName]) {
        collect(node, jobs);
      } else if (node.nodeType === 3) {
        var pieces = split(node.data);
        if (pieces.length === 1 && typeof pieces[0] === "string") {
          continue;
        }
        var fragment = document.createDocumentFragment();
        for (var p = 0; p < pieces.length; p++) {
          var piece = pieces[p];
          if (typeof piece === "string") {
            fragment.appendChild(document.createTextNode(piece));
          } else {
            var span = document.createElement("span");
            span.className = "math-formula";
            span.textContent = piece.source;
            fragment.appendChild(span);
            jobs.push({ span: span, math: piece.math, source: piece.source, display: piece.display });
          }
        }
        element.replaceChild(fragment, node);
      }
    }
  }

  function renderOne(job) {
    if (!withinBounds(job.math)) {
      job.span.className = "math-formula math-unrendered";
      job.span.title = "Not rendered: this formula is too long or too deeply nested.";
      return;
    }
    var options = { displayMode: job.display };
    for (var key in OPTIONS) {
      options[key] = OPTIONS[key];
    }
    try {
      window.katex.render(job.math, job.span, options);
    } catch (error) {
      job.span.textContent = job.source;
      job.span.className = "math-formula math-unrendered";
    }
  }

  function run(jobs) {
    var next = 0;
    var spent = 0;
    function slice() {
      var started = performance.now();
      while (next < jobs.length && spent + (performance.now() - started) < PAGE_BUDGET_MS) {
        renderOne(jobs[next]);
        next += 1;
        if (performance.now() - started > SLICE_MS) {
          break;
        }
      }
      spent += performance.now() - started;
      if (next < jobs.length && spent < PAGE_BUDGET_MS) {
        window.setTimeout(slice, 0);
      }
    }
    slice();
  }

  function render() {
    if (!window.katex || typeof window.katex.render !== "function") {
      return;
    }
    var jobs = [];
    var elements = document.querySelectorAll(".math");
    for (var i = 0; i < elements.length; i++) {
      elements[i].normalize();
      collect(elements[i], jobs);
    }
    run(jobs);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
