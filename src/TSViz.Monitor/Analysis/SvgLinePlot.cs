using System.Globalization;
using System.Text;

namespace TSViz.Monitor.Analysis;

/// <summary>A minimal SVG line chart (no dependency), for the progressive pruning curve.</summary>
internal static class SvgLinePlot
{
    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<(double X, double Y)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        const double width = 640, height = 400, left = 70, right = 20, top = 40, bottom = 50;
        double minX = points.Min(p => p.X), maxX = points.Max(p => p.X);
        double minY = Math.Min(0, points.Min(p => p.Y)), maxY = points.Max(p => p.Y);
        if (maxX == minX)
        {
            maxX = minX + 1;
        }

        if (maxY == minY)
        {
            maxY = minY + 1;
        }

        double Px(double x) => left + ((x - minX) / (maxX - minX) * (width - left - right));
        double Py(double y) => height - bottom - ((y - minY) / (maxY - minY) * (height - top - bottom));
        var c = CultureInfo.InvariantCulture;
        var svg = new StringBuilder();
        svg.Append(c, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(c, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        svg.Append(c, $"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{Escape(title)}</text>\n");
        svg.Append(c, $"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\" stroke=\"black\"/>\n");
        svg.Append(c, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"black\"/>\n");
        for (int i = 0; i <= 4; i++)
        {
            double y = minY + ((maxY - minY) * i / 4);
            double x = minX + ((maxX - minX) * i / 4);
            svg.Append(c, $"<text x=\"{left - 6}\" y=\"{Py(y) + 4:F1}\" text-anchor=\"end\">{y:G4}</text>\n");
            svg.Append(c, $"<text x=\"{Px(x):F1}\" y=\"{height - bottom + 16}\" text-anchor=\"middle\">{x:G4}</text>\n");
        }

        svg.Append(c, $"<text x=\"{(left + width - right) / 2}\" y=\"{height - 10}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        svg.Append(c, $"<text x=\"16\" y=\"{(top + height - bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(top + height - bottom) / 2})\">{Escape(yLabel)}</text>\n");
        svg.Append("<polyline fill=\"none\" stroke=\"#0072B2\" stroke-width=\"2\" points=\"");
        foreach (var (x, y) in points)
        {
            svg.Append(c, $"{Px(x):F1},{Py(y):F1} ");
        }

        svg.Append("\"/>\n");
        foreach (var (x, y) in points)
        {
            svg.Append(c, $"<circle cx=\"{Px(x):F1}\" cy=\"{Py(y):F1}\" r=\"3\" fill=\"#0072B2\"/>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);
}
