package dev.amalgam.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.GrayPaintScale;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * One PNG chart per metric against the first axis, with its 95% band where the metric has one, and one line per
 * value of the second axis in a two-axis grid; for a two-axis grid also a heatmap of the metric over both axes
 * (JFreeChart, drawn headless).
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
    save(folder.resolve(metric + ".png"), chart);
    if (axes.size() > 1) {
      heatmap(folder, metric, axes, rows);
    }
    return data.getSeriesCount();
  }

  /**
   * {@code METRIC.heatmap.png}: each point a cell shaded by the metric, dark for its lowest value and light for its
   * highest; on a log scale where the values are positive and span more than 100 ×, as perplexities can.
   */
  private static void heatmap(Path folder, String metric, List<SweepSpec.Axis> axes, List<ObjectNode> rows) {
    List<ObjectNode> measured = rows.stream().filter(r -> r.get("metrics").has(metric)).toList();
    double[][] cells = new double[3][measured.size()];
    double low = Double.POSITIVE_INFINITY;
    double high = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < measured.size(); i++) {
      cells[0][i] = measured.get(i).get("point").get(axes.get(0).name()).asDouble();
      cells[1][i] = measured.get(i).get("point").get(axes.get(1).name()).asDouble();
      cells[2][i] = measured.get(i).get("metrics").get(metric).asDouble();
      low = Math.min(low, cells[2][i]);
      high = Math.max(high, cells[2][i]);
    }
    boolean log = low > 0 && high / low > 100;
    if (log) {
      for (int i = 0; i < cells[2].length; i++) {
        cells[2][i] = Math.log10(cells[2][i]);
      }
    }
    double from = log ? Math.log10(low) : low;
    double to = log ? Math.log10(high) : high;
    DefaultXYZDataset data = new DefaultXYZDataset();
    data.addSeries(metric, cells);
    XYBlockRenderer renderer = new XYBlockRenderer();
    renderer.setBlockWidth(step(axes.get(0).values()));
    renderer.setBlockHeight(step(axes.get(1).values()));
    renderer.setPaintScale(new GrayPaintScale(from, to > from ? to : from + 1));
    XYPlot plot = new XYPlot(data, new NumberAxis(axes.get(0).name()), new NumberAxis(axes.get(1).name()), renderer);
    JFreeChart chart = new JFreeChart(String.format(Locale.ROOT, "%s over %s and %s (dark %.4g, light %.4g%s)", metric,
        axes.get(0).name(), axes.get(1).name(), low, high, log ? ", log scale" : ""), JFreeChart.DEFAULT_TITLE_FONT,
        plot, false);
    chart.setBackgroundPaint(Color.WHITE);
    save(folder.resolve(metric + ".heatmap.png"), chart);
  }

  /** The smallest gap between an axis's values: a cell's size (1 for a single value). */
  private static double step(List<Double> values) {
    double step = Double.POSITIVE_INFINITY;
    for (int i = 1; i < values.size(); i++) {
      step = Math.min(step, Math.abs(values.get(i) - values.get(i - 1)));
    }
    return Double.isInfinite(step) || step == 0 ? 1 : step;
  }

  private static void save(Path file, JFreeChart chart) {
    try {
      ChartUtils.saveChartAsPNG(file.toFile(), chart, 800, 500);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
