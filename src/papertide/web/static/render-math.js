// Renders the LaTeX in every element with class "math" using the vendored KaTeX.
// trust: false keeps \href, \url, \includegraphics and friends from producing links or requests.
(function () {
  "use strict";
  function render() {
    if (typeof window.renderMathInElement !== "function") {
      return;
    }
    var options = {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "\\[", right: "\\]", display: true },
        { left: "\\(", right: "\\)", display: false },
        { left: "$", right: "$", display: false }
      ],
      trust: false,
      throwOnError: false,
      maxSize: 10,
      maxExpand: 1000
    };
    var elements = document.querySelectorAll(".math");
    for (var i = 0; i < elements.length; i++) {
      window.renderMathInElement(elements[i], options);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
