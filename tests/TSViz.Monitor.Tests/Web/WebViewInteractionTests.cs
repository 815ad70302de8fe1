using System.Globalization;
using System.Text.Json;
using Deque.AxeCore.Commons;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Interactions;

namespace TSViz.Monitor.Tests.Web;

/// <summary>
/// The web view used the way an operator and an engineer use it, by keyboard, in Debian's Chromium driven through
/// Debian's chromium-driver (WebDriver): feedback, the percentile filter, choosing filters and activations, the grid's
/// controls and the inversion target; the browser's own console log; and axe-core's WCAG 2 A/AA rules on every page.
/// </summary>
public sealed class WebViewInteractionTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Keyboard_DrivesFeedbackAndTheExplorer_WithoutConsoleErrorsOrAccessibilityViolations()
    {
        Assert.True(File.Exists(ChromeDriver), $"{ChromeDriver} is missing: install the Debian package chromium-driver (scripts/test.sh does).");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        await using var monitor = await WebTestMonitor.StartAsync(cancel.Token);
        string window = await monitor.PeakWindowAsync(cancel.Token);
        // Computed once per target and kept: asking first keeps the page's waits short.
        await monitor.GetAsync("/api/model/inversion?target=1", cancel.Token);
        await monitor.GetAsync("/api/model/inversion?target=0", cancel.Token);

        using var driver = StartChromium();
        var keys = new Actions(driver);

        // Alerts list: the first Tab reaches the skip link; the injected alert's link opens its page by Enter.
        driver.Navigate().GoToUrl($"{monitor.BaseUrl}/#/");
        Until(driver, d => d.FindElements(By.CssSelector("tr[data-machine='line1/m2'] a")).FirstOrDefault());
        keys.SendKeys(Keys.Tab).Perform();
        Assert.Equal("Skip to content", driver.SwitchTo().ActiveElement().Text);
        NoAccessibilityViolations(driver, "alerts");

        // The list filtered by machine from the keyboard; the filter is kept in the address.
        // (the simulator has no machine m9: the filtered list says so.)
        driver.FindElement(By.Id("filter-machine")).SendKeys("m9" + Keys.Enter);
        Until(driver, d => d.FindElements(By.CssSelector("#alert-rows td")).FirstOrDefault(td => td.Text == "No alerts match."));
        Assert.EndsWith("#/?machine=m9", driver.Url, StringComparison.Ordinal);
        var machineBox = driver.FindElement(By.Id("filter-machine"));
        machineBox.Clear();
        machineBox.SendKeys("line1/m2" + Keys.Enter);
        Until(driver, d => d.Url.EndsWith("#/?machine=line1%2Fm2", StringComparison.Ordinal) ? d.Url : null);
        Until(driver, d => d.FindElements(By.CssSelector("tr[data-alert-id]")).Count > 0
            && d.FindElements(By.CssSelector("tr[data-alert-id]")).All(r => r.GetAttribute("data-machine") == "line1/m2") ? d.Url : null);
        // Focus stays on the alert's link when the list's refresh redraws it (new feedback arrives from elsewhere).
        // (m2 may have had more than one episode by now: the injected anomaly's is the one the monitor named.)
        string alertRow = $"tr[data-alert-id='{monitor.AlertId}']";
        var link = driver.FindElement(By.CssSelector($"{alertRow} a"));
        string href = link.GetDomAttribute("href")!;
        driver.ExecuteScript("arguments[0].focus()", link);
        using (var content = new StringContent("""{"kind":"acknowledge"}""", System.Text.Encoding.UTF8, "application/json"))
        using (var posted = await monitor.Http.PostAsync(new Uri($"/api/alerts/{Uri.EscapeDataString(monitor.AlertId)}/feedback", UriKind.Relative), content, cancel.Token))
        {
            Assert.True(posted.IsSuccessStatusCode, $"feedback: {posted.StatusCode}");
        }

        Until(driver, d => d.FindElements(By.CssSelector($"{alertRow} td")).FirstOrDefault(td => td.Text == "acknowledge"));
        Assert.Equal(href, driver.SwitchTo().ActiveElement().GetDomAttribute("href"));
        keys.SendKeys(Keys.Enter).Perform();
        Until(driver, d => d.FindElements(By.Id("feedback-form")).FirstOrDefault());
        NoAccessibilityViolations(driver, "alert");

        // Feedback by keyboard: comment, then the Confirm button (the author is the signed-in identity).
        driver.FindElement(By.Name("comment")).SendKeys("spike seen on the gauge");
        driver.FindElement(By.CssSelector("button[value='confirm']")).SendKeys(Keys.Enter);
        Until(driver, d => d.FindElements(By.CssSelector("#feedback li")).FirstOrDefault(li => li.Text.StartsWith("confirm by anonymous", StringComparison.Ordinal)));
        var feedback = await monitor.GetAsync($"/api/alerts/{Uri.EscapeDataString(monitor.AlertId)}/feedback", cancel.Token);
        Assert.Contains(feedback.EnumerateArray(), f => f.GetProperty("kind").GetString() == "confirm" && f.GetProperty("comment").GetString() == "spike seen on the gauge");

        // Explorer: the default trace is there; the percentile slider by Home/End keeps every filter or only the top ones.
        driver.Navigate().GoToUrl($"{monitor.BaseUrl}/#/model/{window}");
        Until(driver, d => d.FindElements(By.Id("trace-target")).FirstOrDefault());

        // No nightly analysis yet: the grid is plain. "Run it now" (Enter) runs it and the explorer redraws with the clusters.
        Assert.Equal("no", driver.FindElement(By.CssSelector(".cells")).GetAttribute("data-coloured"));
        driver.FindElement(By.Id("run-analysis")).SendKeys(Keys.Enter);
        Until(driver, d => d.FindElements(By.CssSelector(".cells[data-coloured='yes']")).FirstOrDefault(), TimeSpan.FromSeconds(60));
        Until(driver, d => d.FindElements(By.Id("trace-target")).FirstOrDefault());
        Until(driver, d => d.FindElements(By.Id("inversion-result")).FirstOrDefault());
        NoAccessibilityViolations(driver, "explorer");
        var slider = driver.FindElement(By.Id("percentile"));
        slider.SendKeys(Keys.Home);
        Assert.Equal("0", driver.FindElement(By.Id("percentile-value")).Text);
        Assert.Equal([16, 32, 64], Shown(driver));
        slider.SendKeys(Keys.End);
        Assert.Equal("100", driver.FindElement(By.Id("percentile-value")).Text);
        Assert.All(Shown(driver), n => Assert.InRange(n, 1, 2)); // the layer's top filter (and any tie)

        // Choosing a filter (Enter on its row) shows its saliency and traces it at its strongest activation.
        slider.SendKeys(Keys.Home);
        var row = driver.FindElements(By.CssSelector("figure.layer[data-layer='conv2'] button.filter-row"))[1];
        string filter = row.GetAttribute("data-filter")!;
        row.SendKeys(Keys.Enter);
        var target = Until(driver, d => d.FindElements(By.CssSelector($"#trace-target[data-layer='conv2'][data-filter='{filter}']")).FirstOrDefault());
        Assert.Contains($"conv2 filter {filter}", driver.FindElement(By.Id("selected")).Text, StringComparison.Ordinal);
        int step = int.Parse(target.GetAttribute("data-step")!, CultureInfo.InvariantCulture);

        // The traced step is one tab stop; an arrow key moves along the steps and Enter traces the step reached.
        int next = step > 0 ? step - 1 : step + 1;
        driver.ExecuteScript("arguments[0].focus()", driver.FindElement(By.CssSelector("#trace-steps rect.chosen")));
        keys.SendKeys(step > 0 ? Keys.ArrowLeft : Keys.ArrowRight).SendKeys(Keys.Enter).Perform();
        Until(driver, d => d.FindElements(By.CssSelector($"#trace-target[data-layer='conv2'][data-filter='{filter}'][data-step='{next}']")).FirstOrDefault());
        Until(driver, d => d.SwitchTo().ActiveElement().GetAttribute("data-step") == next.ToString(CultureInfo.InvariantCulture) ? d.SwitchTo().ActiveElement() : null);
        var trace = await monitor.GetAsync($"/api/windows/{window}/trace?layer=conv2&filter={filter}&step={next}", cancel.Token);
        int expected = trace.GetProperty("levels").EnumerateArray().Single(l => l.GetProperty("level").GetString() == "input").GetProperty("points").GetArrayLength();
        Assert.Equal(expected, driver.FindElements(By.CssSelector("figure.trace-input circle.highlight")).Count);

        // Grid: the layer chosen by keyboard, the cluster colouring switched off by Space, the order by cluster.
        driver.FindElement(By.Id("grid-layer")).SendKeys(Keys.Home);
        Until(driver, d => d.FindElements(By.CssSelector(".cells[data-layer='conv1']")).FirstOrDefault());
        Assert.Equal(16, driver.FindElements(By.CssSelector(".cells button.cell")).Count);
        Assert.Equal("yes", driver.FindElement(By.CssSelector(".cells")).GetAttribute("data-coloured"));
        driver.FindElement(By.Id("grid-order")).SendKeys(Keys.End);
        var clusters = driver.FindElements(By.CssSelector(".cells button.cell")).Select(c => int.Parse(c.GetAttribute("data-cluster")!, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(clusters.Order(), clusters);
        driver.FindElement(By.Id("by-cluster")).SendKeys(Keys.Space);
        Until(driver, d => d.FindElements(By.CssSelector(".cells[data-coloured='no']")).FirstOrDefault());

        // Inverse optimisation towards "normal".
        driver.FindElement(By.Id("inversion-target")).SendKeys(Keys.End);
        var normal = Until(driver, d => d.FindElements(By.CssSelector("#inversion-result[data-target='0']")).FirstOrDefault());
        Assert.True(double.Parse(normal.GetAttribute("data-score-end")!, CultureInfo.InvariantCulture) < 0.1);

        // Another window, a normal one kept as a sample, chosen by keyboard: the explorer follows it.
        string normalWindow = driver.FindElements(By.CssSelector("#window-choice optgroup[label^='Normal'] option")).Last().GetAttribute("value")!;
        driver.FindElement(By.Id("window-choice")).SendKeys(Keys.End);
        Until(driver, d => d.Url.EndsWith($"#/model/{Uri.EscapeDataString(normalWindow)}", StringComparison.Ordinal) ? d.Url : null);
        Until(driver, d => d.FindElements(By.CssSelector("#window-choice option")).FirstOrDefault(o => o.Selected && o.GetAttribute("value") == normalWindow));
        Until(driver, d => d.FindElements(By.Id("trace-target")).FirstOrDefault());
        var normalScore = await monitor.GetAsync($"/api/windows/{Uri.EscapeDataString(normalWindow)}/influence", cancel.Token);
        Assert.True(normalScore.GetProperty("score").GetDouble() < 0.5);

        // Nothing reached the browser's console on any of these pages.
        var console = driver.Manage().Logs.GetLog(LogType.Browser).Select(e => $"{e.Level}: {e.Message}").ToList();
        Assert.True(console.Count == 0, string.Join('\n', console));
        Assert.Equal("", driver.FindElement(By.Id("tsviz-errors")).GetAttribute("textContent"));
    }

    [Fact]
    public async Task SignIn_WithAKeyThenAToken_ShowsWhoAndTheRoleAndRefusesABadOne()
    {
        Assert.True(File.Exists(ChromeDriver), $"{ChromeDriver} is missing: install the Debian package chromium-driver (scripts/test.sh does).");
        var secured = new Security.SecuredMonitor();
        await secured.InitializeAsync();
        try
        {
            using var driver = StartChromium();
            string baseUrl = secured.BaseAddress.ToString().TrimEnd('/');
            driver.Navigate().GoToUrl($"{baseUrl}/#/");

            // Authentication on: the page asks before it shows anything.
            var message = Until(driver, d => d.FindElements(By.CssSelector("dialog#sign-in[open] #sign-in-message")).FirstOrDefault(m => m.Text.Length > 0));
            Assert.Equal("This monitor needs an API key or a sign-in token.", message.Text);
            Assert.Empty(driver.FindElements(By.Id("alert-rows")));

            // A key the monitor does not know is refused, and the dialog says so.
            var credential = driver.FindElement(By.Name("credential"));
            credential.SendKeys("tsviz_not-a-key-of-this-monitor" + Keys.Enter);
            Until(driver, d => d.FindElements(By.CssSelector("dialog#sign-in[open] #sign-in-message")).FirstOrDefault(m => m.Text == "That key or token was not accepted."));

            // The viewer's key: the header names the key and its role, and the alerts list loads.
            driver.FindElement(By.Name("credential")).SendKeys(secured.Keys["viewer"] + Keys.Enter);
            Until(driver, d => d.FindElement(By.Id("who")).Text == "Signed in as viewer (viewer, API key)" ? d.FindElement(By.Id("who")) : null);
            Until(driver, d => d.FindElements(By.Id("alert-rows")).FirstOrDefault());
            Assert.Empty(driver.FindElements(By.CssSelector("dialog#sign-in[open]")));

            // Signing out forgets the key; a token from the plant's identity provider signs a person in.
            driver.FindElement(By.Id("sign-out")).SendKeys(Keys.Enter);
            Until(driver, d => d.FindElements(By.CssSelector("dialog#sign-in[open] #sign-in-message")).FirstOrDefault(m => m.Text == "Signed out."));
            Assert.Null(driver.ExecuteScript("return sessionStorage.length ? sessionStorage.getItem(sessionStorage.key(0)) : null"));
            driver.FindElement(By.Name("credential")).SendKeys(secured.Token("ana", "operator") + Keys.Enter);
            Until(driver, d => d.FindElement(By.Id("who")).Text == "Signed in as ana (operator, token)" ? d.FindElement(By.Id("who")) : null);

            // The only console lines are the browser's own notes of the two refused sign-ins (401 from /api/whoami).
            var console = driver.Manage().Logs.GetLog(LogType.Browser).Select(e => e.Message)
                .Where(m => !(m.Contains("/api/whoami", StringComparison.Ordinal) && m.Contains("401", StringComparison.Ordinal))).ToList();
            Assert.True(console.Count == 0, string.Join('\n', console));
            Assert.Equal("", driver.FindElement(By.Id("tsviz-errors")).GetAttribute("textContent"));
        }
        finally
        {
            await secured.DisposeAsync();
        }
    }

    private static ChromeDriver StartChromium()
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,2400");
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    private static T Until<T>(ChromeDriver driver, Func<ChromeDriver, T?> found, TimeSpan? patience = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + (patience ?? Patience);
        while (true)
        {
            try
            {
                if (found(driver) is { } result)
                {
                    return result;
                }
            }
            catch (StaleElementReferenceException)
            {
                // the page re-rendered between finding an element and reading it: look again
            }

            Assert.True(DateTime.UtcNow < deadline, $"not found within {(patience ?? Patience).TotalSeconds} s on {driver.Url}; page errors: {driver.FindElement(By.Id("tsviz-errors")).GetAttribute("textContent")}");
            Thread.Sleep(100);
        }
    }

    private static List<int> Shown(ChromeDriver driver)
        => [.. driver.FindElements(By.CssSelector("figure.layer")).Select(f => int.Parse(f.GetAttribute("data-shown")!, CultureInfo.InvariantCulture))];

    /// <summary>axe-core (bundled with Deque.AxeCore.Commons) on the page as it stands: no WCAG 2 A or AA violation.</summary>
    private static void NoAccessibilityViolations(ChromeDriver driver, string page)
    {
        driver.ExecuteScript(new BundledAxeScriptProvider().GetScript());
        var json = (string?)driver.ExecuteAsyncScript("""
            const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
              .then(r => done(JSON.stringify(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")) })))))
              .catch(e => done(JSON.stringify([{ id: "axe-failed", help: String(e) }])));
            """);
        Assert.NotNull(json);
        var violations = JsonDocument.Parse(json).RootElement.EnumerateArray().Select(v => v.ToString()).ToList();
        Assert.True(violations.Count == 0, $"{page}: {string.Join('\n', violations)}");
    }
}
