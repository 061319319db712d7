import { cleanup, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import LinkedChart from './LinkedChart.svelte';

afterEach(cleanup);

describe('LinkedChart', () => {
  it('draws one bar per state, longest for the largest, with every figure said in words', () => {
    render(LinkedChart, {
      linked: {
        label: 'incidents linked by correlation ID',
        table: 'incident',
        total: 15,
        byState: [
          { state: 'New', count: 10 },
          { state: 'Closed', count: 5 },
        ],
      },
    });
    const chart = screen.getByTestId('linked-chart');
    expect(chart.getAttribute('role')).toBe('img');
    expect(chart.getAttribute('aria-label')).toBe('15 incidents linked by correlation ID: New 10, Closed 5');
    const bars = [...chart.querySelectorAll('rect')].map((r) => Number(r.getAttribute('width')));
    expect(bars).toHaveLength(2);
    expect(bars[0]).toBeGreaterThan(bars[1]!);
    expect(bars[1]).toBeCloseTo(bars[0]! / 2);
  });

  it('draws nothing without states, and a state name from the instance stays text', () => {
    const { container } = render(LinkedChart, {
      linked: { label: 'records', table: 'task', total: 0, byState: [] },
    });
    expect(container.querySelector('svg')).toBeNull();
    cleanup();
    render(LinkedChart, {
      linked: { label: 'records', table: 'task', total: 1, byState: [{ state: '<b>x</b>', count: 1 }] },
    });
    expect(screen.getByTestId('linked-chart').textContent).toContain('<b>x</b>');
    expect(document.querySelector('b')).toBeNull();
  });
});
