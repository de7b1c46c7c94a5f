/*
 * What every task's firmware does the same way around its accelerator: the accelerator's input and
 * output words, th_model_id, th_final_initialize (accel_init), and th_infer (accel_run); th_pre and
 * th_post have nothing to do. A task's own code (tasks/<task>/firmware/, or classifier.h for the
 * classification tasks) includes this file and adds th_load_tensor, filling accel_in, and
 * th_results, reading accel_out.
 */
#ifndef TASKS_ACCELERATED_TASK_H
#define TASKS_ACCELERATED_TASK_H

#include <stdint.h>

#include "accel.h"
#include "ee_core.h"
#include "task_model.h" /* generated: TASK_MODEL_ID, TASK_INPUT_BYTES and the task's own */
#include "th_api.h"

static int32_t accel_in[ACCEL_N_IN];
static int64_t accel_out[ACCEL_N_OUT];

const char *th_model_id(void) { return TASK_MODEL_ID; }

void th_final_initialize(void) { accel_init(); }

void th_pre(void) {}

void th_infer(void) { accel_run(accel_in, accel_out); }

void th_post(void) {}

#endif
