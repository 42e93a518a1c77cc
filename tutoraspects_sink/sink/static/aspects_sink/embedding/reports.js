/* The Reports tab of the instructor dashboard: one embedded Superset dashboard per tab.
 *
 * The first guest token is fetched before anything is embedded: when Superset or the settings
 * are broken, the tab shows the server's one-line message instead of an empty frame. The SDK is
 * served by the LMS (no CDN) and loaded with AMD's define() hidden, because the LMS pages load
 * RequireJS and the SDK's UMD wrapper would otherwise register itself as an anonymous module
 * instead of defining window.supersetEmbeddedSdk.
 */
(function () {
  "use strict";

  function loadSdk(url) {
    if (window.supersetEmbeddedSdk) {
      return Promise.resolve(window.supersetEmbeddedSdk);
    }
    return new Promise(function (resolve, reject) {
      var savedDefine = window.define;
      var script = document.createElement("script");
      script.src = url;
      window.define = undefined;
      script.onload = function () {
        window.define = savedDefine;
        if (window.supersetEmbeddedSdk) {
          resolve(window.supersetEmbeddedSdk);
        } else {
          reject(new Error("the Embedded SDK did not load"));
        }
      };
      script.onerror = function () {
        window.define = savedDefine;
        reject(new Error("the Embedded SDK could not be downloaded from " + url));
      };
      document.head.appendChild(script);
    });
  }

  function fetchToken(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(
          function (body) { return { response: response, body: body }; },
          function () { return { response: response, body: {} }; }
        );
      })
      .then(function (answer) {
        if (!answer.response.ok || !answer.body.guestToken) {
          var error = new Error(answer.body.error || "HTTP " + answer.response.status);
          error.fromServer = Boolean(answer.body.error);
          throw error;
        }
        return answer.body;
      });
  }

  function setUp(root) {
    var settings = JSON.parse(root.querySelector(".aspects-sink-reports-settings").textContent);
    var message = root.querySelector(".aspects-sink-reports-message");
    var embedded = {};
    // Superset chooses the UUID a dashboard is embedded under; the token endpoint says which.
    var embeddedIds = {};

    function showMessage(text) {
      message.textContent = text;
      message.hidden = false;
      root.classList.add("aspects-sink-reports-failed");
    }

    function embed(sdk, dashboard, firstToken) {
      var token = firstToken;
      embedded[dashboard.uuid] = true;
      return sdk.embedDashboard({
        id: embeddedIds[dashboard.uuid] || dashboard.uuid,
        supersetDomain: settings.supersetUrl,
        mountPoint: root.querySelector("#aspects-sink-dashboard-" + dashboard.uuid),
        // The SDK asks again before a token expires; the first one is the one already fetched.
        fetchGuestToken: function () {
          if (token) {
            var first = token;
            token = null;
            return Promise.resolve(first);
          }
          return fetchToken(settings.guestTokenUrl).then(function (body) {
            return body.guestToken;
          });
        },
        dashboardUiConfig: { hideTitle: true, hideChartControls: false, filters: { expanded: false } },
      });
    }

    message.textContent = settings.messages.loading;
    message.hidden = false;
    Promise.all([loadSdk(settings.sdkUrl), fetchToken(settings.guestTokenUrl)])
      .then(function (loaded) {
        var sdk = loaded[0];
        embeddedIds = loaded[1].embeddedIds || {};
        message.hidden = true;
        root.querySelectorAll(".aspects-sink-reports-tab").forEach(function (tab) {
          tab.addEventListener("click", function () {
            var uuid = tab.getAttribute("data-dashboard");
            root.querySelectorAll(".aspects-sink-reports-tab").forEach(function (other) {
              other.setAttribute("aria-selected", other === tab ? "true" : "false");
            });
            root.querySelectorAll(".aspects-sink-reports-panel").forEach(function (panel) {
              panel.hidden = panel.id !== "aspects-sink-dashboard-" + uuid;
            });
            if (!embedded[uuid]) {
              settings.dashboards.forEach(function (dashboard) {
                if (dashboard.uuid === uuid) {
                  embed(sdk, dashboard, null);
                }
              });
            }
          });
        });
        return embed(sdk, settings.dashboards[0], loaded[1].guestToken);
      })
      .catch(function (error) {
        // The server's messages are complete sentences; anything else is put in one.
        var reason = error && error.message ? error.message : String(error);
        showMessage(error && error.fromServer
          ? reason
          : settings.messages.unavailable.replace("{reason}", reason));
      });
  }

  function start() {
    document.querySelectorAll(".aspects-sink-reports").forEach(function (root) {
      if (root.querySelector(".aspects-sink-reports-settings")) {
        setUp(root);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
