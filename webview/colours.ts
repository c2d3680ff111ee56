/** The colour group of a step (timelines, tables, the roofline's dots), from the category its plan recorded. */
import { type StepCategory, categoryOf } from '../src/core/variants/step';

/** The colour groups of the timelines and tables. */
export type ColourGroup = 'transform' | 'transpose' | 'product' | 'conv' | 'pad' | 'other';

const GROUP: Record<StepCategory, ColourGroup> = {
  'forward-transform': 'transform',
  'kernel-transform': 'transform',
  'inverse-transform': 'transform',
  setup: 'transform',
  layout: 'transpose',
  product: 'product',
  convolution: 'conv',
  padding: 'pad',
};

/** A step's colour group, from the category its plan recorded. */
export function stepGroup(step: { id: string; name: string; category?: StepCategory }): ColourGroup {
  return GROUP[categoryOf(step)];
}
