package dev.amalgam.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * One PNG chart per metric against the first axis, with its 95% band where the metric has one, and one line per
 * value of the second axis in a two-axis grid (JFreeChart, drawn headless).
 */
final class SweepChart {
  private SweepChart() {}

  /** Writes {@code METRIC.png} into {@code folder}; returns the series drawn. */
  static int write(Path folder, String metric, List<SweepSpec.Axis> axes, List<ObjectNode> rows) {
    System.setProperty("java.awt.headless", "true");
    YIntervalSeriesCollection data = new YIntervalSeriesCollection();
    String x = axes.get(0).name();
    List<Double> lines = axes.size() > 1 ? axes.get(1).values() : List.of(Double.NaN);
    for (double line : lines) {
      YIntervalSeries series = new YIntervalSeries(axes.size() > 1 ? axes.get(1).name() + " = " + line : metric);
      for (ObjectNode row : rows) {
        JsonNode m = row.get("metrics");
        if (!m.has(metric) || axes.size() > 1 && row.get("point").get(axes.get(1).name()).asDouble() != line) {
          continue;
        }
        double y = m.get(metric).asDouble();
        series.add(row.get("point").get(x).asDouble(), y, m.path(metric + ".low95").asDouble(y),
            m.path(metric + ".high95").asDouble(y));
      }
      data.addSeries(series);
    }
    DeviationRenderer renderer = new DeviationRenderer(true, true);
    for (int s = 0; s < data.getSeriesCount(); s++) {
      Color color = Color.getHSBColor((float) s / Math.max(1, data.getSeriesCount()), 0.7f, 0.75f);
      renderer.setSeriesPaint(s, color);
      renderer.setSeriesFillPaint(s, color);
      renderer.setSeriesStroke(s, new BasicStroke(2f));
    }
    renderer.setAlpha(0.2f);
    NumberAxis yAxis = new NumberAxis(metric);
    yAxis.setAutoRangeIncludesZero(false);
    XYPlot plot = new XYPlot(data, new NumberAxis(x), yAxis, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    JFreeChart chart = new JFreeChart(metric + " against " + x, JFreeChart.DEFAULT_TITLE_FONT, plot, axes.size() > 1);
    chart.setBackgroundPaint(Color.WHITE);
    try {
      ChartUtils.saveChartAsPNG(folder.resolve(metric + ".png").toFile(), chart, 800, 500);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the chart of " + metric, e);
    }
    return data.getSeriesCount();
  }
}
