/* Dealrooms unlock: opens a password-protected deal room in the browser.
 *
 * Every page of a protected deal is a generic unlock page carrying that
 * page's ciphertext (see dealrooms_plugin/protect.py for the format). This
 * script derives the key with WebCrypto (PBKDF2-HMAC-SHA256 -> AES-256-GCM),
 * keeps the derived key (never the password) in sessionStorage under the
 * deal's salt, optionally in localStorage ("remember on this device"), then
 * decrypts the page and replaces the document with it. Encrypted files the
 * page refers to (logo, calendar) become blob: URLs; Material's request for
 * the deal's search index is answered with the decrypted index.
 * No crypto library: crypto.subtle only. No request leaves this origin.
 */
(function () {
  "use strict";

  var paramsEl = document.getElementById("dr-lock-params");
  if (!paramsEl) { return; }
  var lock = JSON.parse(paramsEl.textContent);
  var STORE = "dealrooms.key." + lock.salt;
  var SITE = new URL(document.querySelector('link[href$="assets/dealrooms/unlock.css"]').getAttribute("href").replace(/assets\/dealrooms\/unlock\.css$/, ""), location.href);
  var ROOT = new URL(lock.root, location.href);
  var encoder = new TextEncoder();
  var MIME = { svg: "image/svg+xml", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp",
               gif: "image/gif", ico: "image/x-icon", ics: "text/calendar", json: "application/json",
               xml: "application/xml", pdf: "application/pdf", txt: "text/plain", csv: "text/csv" };

  function Damaged() { this.name = "Damaged"; }
  function Unreachable() { this.name = "Unreachable"; }

  // --- bytes and keys ------------------------------------------------------

  function fromB64(text) {
    var bin = atob(text), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function toB64(bytes) {
    var bin = "", view = new Uint8Array(bytes);
    for (var i = 0; i < view.length; i++) { bin += String.fromCharCode(view[i]); }
    return btoa(bin);
  }
  function aad(path) { return encoder.encode("dealrooms:v" + lock.v + ":" + path); }

  function derive(password) {
    var secret = encoder.encode(password.trim().normalize("NFC"));
    return crypto.subtle.importKey("raw", secret, "PBKDF2", false, ["deriveBits"]).then(function (base) {
      return crypto.subtle.deriveBits(
        { name: "PBKDF2", hash: "SHA-256", salt: fromB64(lock.salt), iterations: lock.iterations }, base, 256);
    });
  }
  function importKey(raw) {
    return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["decrypt"]);
  }
  function decrypt(key, path, blob) {  // blob: nonce (12 bytes) | ciphertext+tag
    return crypto.subtle.decrypt(
      { name: "AES-GCM", iv: blob.subarray(0, 12), additionalData: aad(path), tagLength: 128 }, key, blob.subarray(12));
  }
  function verify(key) {
    return decrypt(key, "#check", fromB64(lock.check)).then(function () { return true; }, function () { return false; });
  }
  function unframe(buffer) {  // flag | u32 length | body | padding
    var bytes = new Uint8Array(buffer);
    if (bytes.length < 5) { throw new Damaged(); }
    var length = ((bytes[1] << 24) | (bytes[2] << 16) | (bytes[3] << 8) | bytes[4]) >>> 0;
    if (5 + length > bytes.length) { throw new Damaged(); }
    var body = bytes.subarray(5, 5 + length);
    if (bytes[0] === 0) { return Promise.resolve(body); }
    if (bytes[0] !== 1) { throw new Damaged(); }
    var stream = new Blob([body]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (b) { return new Uint8Array(b); },
                                                   function () { throw new Damaged(); });
  }
  function open(key, path, blob) {
    return decrypt(key, path, blob).then(unframe, function () { throw new Damaged(); });
  }

  // --- remembered keys -------------------------------------------------------

  function stored() {
    try { return sessionStorage.getItem(STORE) || localStorage.getItem(STORE); } catch (e) { return null; }
  }
  function remember(raw, persistent) {
    var value = toB64(raw);
    try { sessionStorage.setItem(STORE, value); } catch (e) { /* private mode: ask again next page */ }
    if (persistent) { try { localStorage.setItem(STORE, value); } catch (e) { /* ignore */ } }
  }
  function forget() {
    try { sessionStorage.removeItem(STORE); } catch (e) { /* ignore */ }
    try { localStorage.removeItem(STORE); } catch (e) { /* ignore */ }
  }

  // --- the unlock form ------------------------------------------------------

  var $ = function (id) { return document.getElementById(id); };
  var root = document.documentElement;

  function state(name) {
    root.className = name ? "dr-" + name : "";
  }
  function message(text) {
    $("dr-unlock-message").textContent = text || "";
  }
  function busy(on) {
    $("dr-submit").disabled = on;
    $("dr-password").readOnly = on;
    $("dr-submit").textContent = on ? "Opening…" : "Open deal room";
  }
  function showForm() {
    state("");
    busy(false);
    var input = $("dr-password");
    if (input && document.activeElement !== input) { input.focus(); }
  }
  function fail(error) {
    busy(false);
    if (error instanceof Damaged) {
      state("damaged");
      $("dr-unlock-title").textContent = "This page is damaged.";
      $("dr-unlock-lead").textContent = "It cannot be opened as it is. Please ask your contact for a new link.";
      $("dr-unlock-help").textContent = "Nothing is wrong with your password; the page itself was changed or cut short on its way to you.";
    } else if (error instanceof Unreachable) {
      state("");
      message("Part of this deal room could not be loaded. Check your connection and try again.");
    } else {
      state("");
      message("Something went wrong while opening this deal room. Please reload the page and try again.");
      if (window.console) { console.error(error); }
    }
  }

  function setup() {
    var form = $("dr-unlock-form"), input = $("dr-password"), reveal = $("dr-reveal");
    if (!window.crypto || !crypto.subtle || !window.DecompressionStream) {
      state("unsupported");
      message(!window.isSecureContext
        ? "This deal room opens only over a secure (https) connection. Please check the link you received."
        : "This browser cannot open encrypted deal rooms. Please use a current version of Chrome, Edge, Firefox or Safari.");
      return;
    }
    reveal.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      reveal.textContent = show ? "Hide" : "Show";
      reveal.setAttribute("aria-pressed", String(show));
      input.focus();
    });
    input.addEventListener("input", function () { message(""); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var password = input.value;
      if (!password.trim()) { message("Please enter the password you received."); input.focus(); return; }
      message("");
      busy(true);
      derive(password).then(function (raw) {
        return importKey(raw).then(function (key) {
          return verify(key).then(function (ok) {
            if (!ok) {
              busy(false);
              message("That password does not open this deal room. Please check it and try again; it is case-sensitive.");
              input.select();
              return;
            }
            remember(raw, $("dr-remember").checked);
            input.value = "";
            return reveal_(key);
          });
        });
      }).catch(fail);
    });

    var saved = stored();
    if (!saved) { showForm(); return; }
    state("auto");
    importKey(fromB64(saved)).then(function (key) {
      return verify(key).then(function (ok) {
        if (!ok) { forget(); showForm(); return; }  // password changed since: ask again
        return reveal_(key);
      });
    }).catch(function (error) {
      if (error instanceof Damaged || error instanceof Unreachable) { fail(error); } else { forget(); showForm(); }
    });
  }

  // --- the real page -------------------------------------------------------

  var ATTRS = [["img", "src"], ["source", "src"], ["link", "href"], ["a", "href"], ["image", "href"], ["use", "href"]];

  function fetchFile(key, path, name) {
    return fetch(new URL(name, ROOT), { credentials: "same-origin" })
      .then(function (response) { if (!response.ok) { throw new Unreachable(); } return response.arrayBuffer(); },
            function () { throw new Unreachable(); })
      .then(function (buffer) { return open(key, path, new Uint8Array(buffer)); })
      .then(function (bytes) {
        var ext = path.split(".").pop().toLowerCase();
        return URL.createObjectURL(new Blob([bytes], { type: MIME[ext] || "application/octet-stream" }));
      });
  }

  function reveal_(key) {
    return open(key, lock.path, fromB64(lock.data)).then(function (bytes) {
      var payload = JSON.parse(new TextDecoder().decode(bytes));
      var doc = new DOMParser().parseFromString(payload.html, "text/html");
      var files = payload.files || {};
      var byUrl = {};  // absolute URL of a sealed file -> its path inside the deal
      Object.keys(files).forEach(function (path) { byUrl[new URL(path, ROOT).href] = path; });

      var uses = [];  // [element, attribute, path]
      ATTRS.forEach(function (pair) {
        doc.querySelectorAll(pair[0] + "[" + pair[1] + "]").forEach(function (el) {
          var url;
          try { url = new URL(el.getAttribute(pair[1]), location.href); } catch (e) { return; }
          url.hash = ""; url.search = "";
          if (byUrl[url.href]) { uses.push([el, pair[1], byUrl[url.href]]); }
        });
      });
      var needed = {};
      uses.forEach(function (use) { needed[use[2]] = true; });
      var search = "search/search_index.json";
      if (files[search] && doc.querySelector("form[name=search]")) { needed[search] = true; }

      var paths = Object.keys(needed);
      return Promise.all(paths.map(function (path) { return fetchFile(key, path, files[path]); })).then(function (urls) {
        var blobs = {};
        paths.forEach(function (path, i) { blobs[path] = urls[i]; });
        uses.forEach(function (use) {
          var el = use[0], path = use[2];
          el.setAttribute(use[1], blobs[path]);
          if (el.tagName.toLowerCase() === "a" && !el.getAttribute("download")) {  // keep the real file name
            el.setAttribute("download", path.split("/").pop());
          }
        });
        var intercepted = {};
        if (blobs[search]) { intercepted[new URL(search, ROOT).href] = blobs[search]; }
        withoutInstantLoading(doc);
        addLockButton(doc);
        show(doc, intercepted);
      });
    });
  }

  function withoutInstantLoading(doc) {
    // Material's instant loading would fetch the next page's *sealed* HTML and
    // swap it in; plain navigation loads it and this script opens it instead.
    var config = doc.getElementById("__config");
    if (!config) { return; }
    try {
      var data = JSON.parse(config.textContent);
      data.features = (data.features || []).filter(function (f) { return f.indexOf("navigation.instant") !== 0; });
      config.textContent = JSON.stringify(data);
    } catch (e) { /* leave Material's configuration as it is */ }
  }

  function addLockButton(doc) {
    var css = doc.createElement("link");
    css.rel = "stylesheet";
    css.href = new URL("assets/dealrooms/unlock.css", SITE).href;
    doc.head.appendChild(css);
    var button = doc.createElement("button");
    button.type = "button";
    button.className = "dr-lock-button";
    button.setAttribute("data-dr-lock", "");
    button.title = "Lock this deal room: forget the password on this device";
    button.innerHTML = '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path fill="currentColor" ' +
      'd="M12 17a2 2 0 0 0 2-2 2 2 0 0 0-2-2 2 2 0 0 0-2 2 2 2 0 0 0 2 2m6-9a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V10a2 ' +
      '2 0 0 1 2-2h1V6a5 5 0 0 1 5-5 5 5 0 0 1 5 5v2h1m-6-5a3 3 0 0 0-3 3v2h6V6a3 3 0 0 0-3-3Z"/></svg><span>Lock</span>';
    var header = doc.querySelector(".md-header__inner");
    if (header) {
      header.appendChild(button);
    } else {
      button.className += " dr-lock-button--floating";
      doc.body.appendChild(button);
    }
  }

  function intercept(map) {
    // Material asks for search/search_index.json with XMLHttpRequest (fetch in
    // other versions): hand it the decrypted index instead of the sealed URL.
    function swap(url) {
      try { var href = new URL(url, location.href).href; return map[href] || url; } catch (e) { return url; }
    }
    var xhrOpen = XMLHttpRequest.prototype.open;
    XMLHttpRequest.prototype.open = function (method, url) {
      var args = Array.prototype.slice.call(arguments);
      args[1] = swap(String(url));
      return xhrOpen.apply(this, args);
    };
    var originalFetch = window.fetch;
    window.fetch = function (input, init) {
      if (typeof input === "string" || input instanceof URL) { input = swap(String(input)); }
      return originalFetch.call(this, input, init);
    };
  }

  function show(doc, map) {
    intercept(map);
    var html = "<!doctype html>\n" + doc.documentElement.outerHTML;
    document.open();
    document.write(html);
    document.close();
    // document.open() dropped every listener: listen again on the new document.
    document.addEventListener("click", function (event) {
      var target = event.target && event.target.closest && event.target.closest("[data-dr-lock]");
      if (!target) { return; }
      event.preventDefault();
      forget();
      location.reload();
    });
  }

  setup();
})();
