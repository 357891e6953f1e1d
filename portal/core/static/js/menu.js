/* 长辈模式's 菜单: one button that opens and closes the header's switch, search
   and menu, and says whether they are open. Without this script the 菜单 and
   收起菜单 links do the same through :target (see elder.css). */
(function () {
    "use strict";
    var header = document.getElementById("menu");
    var link = header && header.querySelector("a[data-menu-toggle]");
    if (!link) {
        return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = link.className;
    button.setAttribute("data-menu-toggle", "");
    button.textContent = link.textContent;
    // Opened through the link before this script ran (or on a reload of #menu).
    var open = window.location.hash === "#menu";
    // classList.toggle's second argument is not known to every browser in use.
    function show(value) {
        open = value;
        if (open) {
            header.classList.add("site-header--open");
        } else {
            header.classList.remove("site-header--open");
        }
        button.setAttribute("aria-expanded", String(open));
    }
    show(open);
    header.classList.add("site-header--js");
    link.parentNode.replaceChild(button, link);
    button.addEventListener("click", function () {
        show(!open);
    });
})();
