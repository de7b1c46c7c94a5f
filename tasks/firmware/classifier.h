/*
 * The firmware of every classification task (kws01, ic01, vww01): th_load_tensor maps each byte of
 * the `db` input to one accelerator input word, th_results prints the softmax of the accelerator's
 * logits (ee_results_softmax; the host normalises and takes the argmax); the rest is
 * accelerated_task.h.
 *
 * A task's own file (tasks/<task>/firmware/<task>_model.c) defines only its input mapping,
 *     #define TASK_INPUT(byte)  the accelerator's input word (ACCEL_IN_FRAC fraction bits) for one byte
 * with the compile-time checks that the mapping is exact, and then includes this file.
 */
#ifndef TASKS_CLASSIFIER_H
#define TASKS_CLASSIFIER_H

#include "accelerated_task.h" /* accel_in, accel_out, th_model_id, th_final_initialize, th_infer */

#ifndef TASK_INPUT
#error "define TASK_INPUT(byte), the accelerator input word for one input byte, before including classifier.h"
#endif
#if ACCEL_N_IN != TASK_INPUT_BYTES || ACCEL_N_OUT != TASK_CLASSES
#error "a classifier's firmware expects one accelerator input per input byte and one output per class"
#endif

int th_load_tensor(void) {
    static uint8_t bytes[TASK_INPUT_BYTES];
    if (ee_get_input(bytes, sizeof bytes) != 0) return -1;
    for (int i = 0; i < TASK_INPUT_BYTES; ++i) accel_in[i] = TASK_INPUT(bytes[i]);
    return 0;
}

void th_results(void) { ee_results_softmax(accel_out, TASK_CLASSES, ACCEL_OUT_FRAC); }

#endif
